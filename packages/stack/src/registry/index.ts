export {
  KonnectorRegistry,
  ManifestError,
  readKonnector,
  type InstalledKonnector,
  type FieldDefaults,
  type RegistryProblem,
} from './registry.js';
export {
  readKonnectorPackage,
  writeKonnectorPackage,
  writeTarGz,
  PackageError,
  PackageInfo,
  PACKAGE_MAX_BYTES,
  PACKAGE_MAX_UNPACKED_BYTES,
  PACKAGE_MAX_ENTRIES,
  type KonnectorPackage,
  type PackageProblem,
  type TarEntry,
  type WritePackageInput,
} from './konnector-package.js';
