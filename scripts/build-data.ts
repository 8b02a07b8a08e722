/**
 * Regenerates the committed default data set in `data/` from its seed
 * (`npm run data:build`). The output is byte-identical on every run.
 */
import { statSync } from 'node:fs';
import { writeDefaultDataset } from '../src/data/dataset';

const dir = process.argv[2];
for (const path of writeDefaultDataset(dir)) {
  console.log(`${path}  ${(statSync(path).size / 1024).toFixed(0)} KiB`);
}
