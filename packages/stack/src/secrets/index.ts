export {
  Keyring,
  loadKeyring,
  createKeyFile,
  setCurrentKeyId,
  keysDir,
  SecretKeyError,
  type KeyringOptions,
} from './keyring.js';
export { rotateSecretKey, resealAll, type RotationResult } from './rotate.js';
export { accountAad } from './sealed.js';
