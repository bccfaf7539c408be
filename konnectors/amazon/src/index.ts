import { AmazonKonnector } from './konnector.js';

await new AmazonKonnector().run();
