import { TestSiteKonnector } from './konnector.js';

await new TestSiteKonnector().run();
