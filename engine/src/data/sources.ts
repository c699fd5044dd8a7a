// Where the built-in image data sets may come from besides the bundled subset: the download
// cache, the site files are downloaded from, and Debian's dataset packages. One value per
// process or request, built from settings, CLI options and environment variables.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What a downloaded file must be: its MD5 (as the data set's authors and torchvision publish it) and size. */
export interface FileChecksum {
  md5: string;
  bytes: number;
}

export interface DataSources {
  /** The download cache: files live in `<cacheDir>/<set folder>/`. */
  cacheDir: string;
  /** A base URL serving `<mirror>/<set folder>/<file>` instead of the official sites; null for those. */
  mirror: string | null;
  /** The folder of Debian's dataset packages (`/usr/share/datasets`), or null to ignore them. */
  systemDir: string | null;
  /** Checksums that replace the official ones, keyed `<set folder>/<file>` (a mirror serving other files). */
  checksums: Readonly<Record<string, FileChecksum>>;
}

/** Where Debian's `dataset-*` packages install (dataset-fashion-mnist: `/usr/share/datasets/fashion-mnist`). */
export const DEBIAN_DATASETS_DIR = '/usr/share/datasets';

/** The environment variables that configure the sources (the CLI options and editor settings win over them). */
export const DATA_ENV = {
  cache: 'NN_DATA_CACHE',
  mirror: 'NN_DATA_MIRROR',
  systemDir: 'NN_DATA_SYSTEM_DIR',
  checksums: 'NN_DATA_CHECKSUMS',
} as const;

/**
 * The user's cache folder for NN Studio, as other tools pick theirs: `$XDG_CACHE_HOME/nn-studio`
 * or `~/.cache/nn-studio` on Linux, `~/Library/Caches/nn-studio` on macOS,
 * `%LOCALAPPDATA%\nn-studio\cache` on Windows.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'nn-studio', 'cache');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'nn-studio');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'nn-studio');
}

/** Overrides from a CLI option or an editor setting; an empty string means "not set". */
export interface SourceOverrides {
  cacheDir?: string;
  mirror?: string;
}

/**
 * The sources from the environment, with `overrides` (CLI options, editor settings) first.
 * Throws only when NN_DATA_CHECKSUMS names a file that is not a JSON object of checksums.
 */
export function dataSources(overrides: SourceOverrides = {}, env: NodeJS.ProcessEnv = process.env): DataSources {
  const systemDir = env[DATA_ENV.systemDir];
  const checksumsFile = env[DATA_ENV.checksums];
  return {
    cacheDir: overrides.cacheDir || env[DATA_ENV.cache] || defaultCacheDir(env),
    mirror: overrides.mirror || env[DATA_ENV.mirror] || null,
    systemDir: systemDir === undefined ? DEBIAN_DATASETS_DIR : systemDir === '' ? null : systemDir,
    checksums: checksumsFile ? readChecksums(checksumsFile) : {},
  };
}

function readChecksums(file: string): Record<string, FileChecksum> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const entries = typeof parsed === 'object' && parsed !== null ? Object.entries(parsed) : [];
  const valid = entries.every(([, v]) => typeof v?.md5 === 'string' && Number.isInteger(v?.bytes));
  if (!valid || entries.length === 0) throw new Error(`${DATA_ENV.checksums}=${file}: expected {"<set>/<file>": {"md5": "...", "bytes": N}, ...}`);
  return Object.fromEntries(entries) as Record<string, FileChecksum>;
}
