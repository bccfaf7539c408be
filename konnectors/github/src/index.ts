import { GithubKonnector } from './konnector.js';

await new GithubKonnector().run();
