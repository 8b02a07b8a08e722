import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, OutputError } from '../../src/core/errors';
import { checkOutputDir, checkOutputFile, OutputBatch, outputFaults, safeOutputName, safeOutputPath, tempPathFor, writeFileAtomic } from '../../src/core/output';
import { thrownBy } from '../support/errors';
import { mountTmpfs } from '../support/tmpfs';

const tmp = () => mkdtempSync(join(tmpdir(), 'qb-output-'));
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

afterEach(() => {
  outputFaults.beforeWrite = undefined;
  outputFaults.chunkBytes = undefined;
});

describe('output names stay inside their folder', () => {
  it('bare names pass and give a path directly inside the folder', () => {
    expect(safeOutputName('01-data', '--name')).toBe('01-data');
    expect(safeOutputPath('reports', '01-data', '--name', { suffix: '.html' })).toBe(join('reports', '01-data.html'));
    expect(safeOutputPath('out', 'BTC_20240101', '--symbol', { prefix: 'paths_', suffix: '.csv' })).toBe(join('out', 'paths_BTC_20240101.csv'));
    expect(safeOutputName('..x', '--name')).toBe('..x'); // a dotted name is still a child of the folder
  });

  it('names that would leave the folder are a ConfigError naming the flag and the value', () => {
    const cases: Array<[string, RegExp]> = [
      ['../notebooks/01-data', /path separator/],
      ['/etc/passwd', /absolute path/],
      ['..', /it is "\.\."/],
      ['.', /it is "\."/],
      ['a/b', /path separator/],
      ['a\\b', /path separator/],
      ['x\0y', /NUL byte/],
      ['line\nbreak', /control character/],
      ['', /empty/],
      ['x'.repeat(256), /longer than 255 bytes/],
    ];
    for (const [name, why] of cases) {
      const e = thrownBy(() => safeOutputPath('reports', name, '--name', { suffix: '.html' }), ConfigError);
      expect(e.message).toMatch(why);
      expect(e.location).toEqual({ key: '--name', value: name });
    }
    // The whole file name is checked too: a name that fits alone but not with its suffix.
    expect(thrownBy(() => safeOutputPath('o', 'x'.repeat(250), '--name', { suffix: '.run.json' }), ConfigError).message).toMatch(/output file name .* longer than 255/);
  });
});

describe('atomic writes', () => {
  it('replace the whole file, create the folder and leave no temporary file behind', () => {
    const dir = tmp();
    const target = join(dir, 'sub', 'r.html');
    writeFileAtomic(target, 'old');
    writeFileAtomic(target, 'new report');
    expect(readFileSync(target, 'utf8')).toBe('new report');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['r.html']);
  });

  it('keep the previous file when the rename fails (a folder in the way)', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'r.html'), 'good report');
    const blocked = join(dir, 'blocked.html');
    mkdirSync(join(blocked, 'x'), { recursive: true });
    const e = thrownBy(() => writeFileAtomic(blocked, 'half'), OutputError);
    expect(e.file).toBe(blocked);
    expect(readdirSync(dir).sort()).toEqual(['blocked.html', 'r.html']);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toBe('good report');
  });

  it('keep the previous file byte for byte when the disk fills midway (injected ENOSPC)', () => {
    const dir = tmp();
    const target = join(dir, 'bars.csv');
    const before = Buffer.from('ts,close\n2024-01-01T00:00:00.000Z,1\n');
    writeFileSync(target, before);
    outputFaults.chunkBytes = 16;
    const seen: number[] = [];
    outputFaults.beforeWrite = ({ offset }) => {
      seen.push(offset);
      if (offset >= 32) throw enospc();
    };
    const e = thrownBy(() => writeFileAtomic(target, 'ts,close\n'.repeat(100)), OutputError);
    expect(seen).toEqual([0, 16, 32]); // two chunks reached the temporary file before the failure
    expect(e.message).toBe(`cannot write: no space left on device (ENOSPC); the previous file, if any, is unchanged (file ${target})`);
    expect(readFileSync(target)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['bars.csv']);
  });

  it('a batch that fails on its last file leaves no new file beside the old ones (interrupted write)', () => {
    const dir = tmp();
    const files = ['paths.csv', 'fan.html', 'summary.json'].map((f) => join(dir, f));
    files.forEach((f, i) => writeFileSync(f, `old ${i}`));
    outputFaults.chunkBytes = 4;
    outputFaults.beforeWrite = ({ path, offset }) => {
      if (path.endsWith('summary.json') && offset >= 8) throw new Error('interrupted');
    };
    const batch = new OutputBatch();
    try {
      batch.write(files[0], 'new paths');
      batch.write(files[1], 'new chart');
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toHaveLength(2);
      expect(() => batch.write(files[2], 'new summary, longer than eight bytes')).toThrow(/cannot write: interrupted/);
    } finally {
      batch.abort();
    }
    expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(['old 0', 'old 1', 'old 2']);
    expect(readdirSync(dir).sort()).toEqual(['fan.html', 'paths.csv', 'summary.json']);
  });

  it('a committed batch puts every file in place; temporary names are hidden, in the same folder', () => {
    const dir = tmp();
    const batch = new OutputBatch();
    batch.write(join(dir, 'a.json'), '{"a":1}');
    batch.write(join(dir, 'a.json'), '{"a":2}'); // the second write of a path wins
    batch.write(join(dir, 'b.csv'), 'x\n1\n');
    expect(readFileSync(batch.tempOf(join(dir, 'b.csv'))!, 'utf8')).toBe('x\n1\n');
    expect(batch.commit()).toEqual([join(dir, 'a.json'), join(dir, 'b.csv')]);
    batch.abort(); // nothing left to remove
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.csv']);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"a":2}');
    expect(tempPathFor(join('out', 'a.json'))).toMatch(new RegExp(`^out/\\.a\\.json\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`));
    expect(Buffer.byteLength(tempPathFor('x'.repeat(255)).split('/').pop()!)).toBeLessThanOrEqual(255);
  });

  it('an output folder under /proc fails instead of hanging (Node 20 recursive mkdir loops there)', () => {
    const e = thrownBy(() => writeFileAtomic('/proc/qb-no-such/x.csv', 'x'), OutputError);
    expect(e.message).toMatch(/cannot create the folder: the folder does not exist \(ENOENT\)/);
  });
});

describe('output preflight', () => {
  it('accepts an existing or creatable folder and creates nothing', () => {
    const dir = tmp();
    checkOutputDir(dir, '--out', ['index.html']);
    checkOutputDir(join(dir, 'a', 'b'), '--out');
    checkOutputFile(join(dir, 'c', 'x.parquet'), '<out>');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a file where a folder is needed and a folder where a file is needed, in one line naming the flag', () => {
    const dir = tmp();
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    mkdirSync(join(dir, 'd', 'index.html'), { recursive: true });
    const msg = (f: () => void) => thrownBy(f, ConfigError).message;
    expect(msg(() => checkOutputDir(file, '--out'))).toBe(`cannot write to --out ${file}: it is a file, not a folder (key "--out")`);
    expect(msg(() => checkOutputDir(join(file, 'sub'), '--out'))).toBe(`cannot write to --out ${join(file, 'sub')}: ${file} is a file, not a folder (key "--out")`);
    expect(msg(() => checkOutputDir(join(dir, 'd'), '--out', ['index.html']))).toMatch(/index\.html is a folder where an output file goes/);
    expect(msg(() => checkOutputFile(join(dir, 'd'), '<out>'))).toBe(`cannot write to <out> ${join(dir, 'd')}: it is a folder; name a file (key "<out>")`);
    expect(msg(() => checkOutputFile(join(file, 'x.csv'), '<out>'))).toMatch(/f is a file, not a folder/);
    expect(msg(() => checkOutputDir('', '--out'))).toMatch(/no folder given/);
  });

  const ro = mountTmpfs(['ro', 'size=64k']);
  afterAll(() => ro.unmount());
  it.skipIf(!ro.dir)(`refuses a read-only file system${ro.dir ? '' : ` (skipped: ${ro.reason})`}`, () => {
    const e = thrownBy(() => checkOutputDir(join(ro.dir!, 'out'), '--out'), ConfigError);
    expect(e.message).toBe(`cannot write to --out ${join(ro.dir!, 'out')}: ${ro.dir} is not writable: read-only file system (EROFS) (key "--out")`);
    expect(() => checkOutputFile(join(ro.dir!, 'x.csv'), '<out>')).toThrow(/read-only file system \(EROFS\)/);
  });
});
