// Figure 1 (Gleaner): the cost of reaching the first line of fetch() with @gleaner/konnector.
// Run with GLEANER_DATA=<dir> in a cwd holding konnector-dev-config.json (standalone host).
import { BaseKonnector } from '@gleaner/konnector';

await new BaseKonnector(async () => {
  process.exit(0);
}).run();
