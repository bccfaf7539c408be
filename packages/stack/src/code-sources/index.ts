export * from './matching.js';
export * from './service.js';
export * from './sms-webhook.js';
export * from './totp.js';
