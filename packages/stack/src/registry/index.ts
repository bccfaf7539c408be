export {
  KonnectorRegistry,
  ManifestError,
  readKonnector,
  type InstalledKonnector,
  type FieldDefaults,
  type RegistryProblem,
} from './registry.js';
