export {
  KonnectorRegistry,
  ManifestError,
  readKonnector,
  type InstalledKonnector,
  type RegistryProblem,
} from './registry.js';
