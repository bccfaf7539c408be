export {
  Keyring,
  loadKeyring,
  createKeyFile,
  setCurrentKeyId,
  keysDir,
  SecretKeyError,
  UnreadableSecretError,
  FORGOTTEN,
  type UnreadableReason,
  type KeyringOptions,
} from './keyring.js';
export { rotateSecretKey, resealAll, type RotationResult, type UnreadableSecret } from './rotate.js';
export { accountAad } from './sealed.js';
