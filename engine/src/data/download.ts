// Downloads one file over HTTP(S) into the cache, as torchvision's `download=True` does, but
// resumable: bytes go to `<file>.part`, a dropped connection or a later run continues with
// an HTTP Range request, and only a file whose size and MD5 match is renamed into place.
// Every failure is a sentence for the user (offline, HTTP status, checksum), never a throw.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { dirname } from 'node:path';
import type { FileChecksum } from './sources.js';

export interface DownloadProgress {
  /** The data set's title and the file, for messages: `Fashion-MNIST`, `train-images-idx3-ubyte.gz`. */
  title: string;
  file: string;
  url: string;
  /** Bytes of this file on disk so far (including those of an earlier, interrupted run). */
  received: number;
  total: number;
  /** Bytes this file had when this run started (a resumed download), else 0. */
  resumedFrom: number;
  /** Bytes of the whole data set's download, and how many of them are done (this file included). */
  setReceived: number;
  setTotal: number;
}

export interface DownloadOptions {
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Attempts per file; after a dropped connection the next one resumes (default 5). */
  attempts?: number;
  /** A connection idle this long counts as dropped (default 30 s). */
  idleTimeoutMs?: number;
}

/** Connection errors that mean the host cannot be reached at all: retrying does not help. */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);
const MAX_REDIRECTS = 5;

class Unreachable extends Error {}
class HttpStatus extends Error {}

/** `url` into `dest`; null when the file is there and verified, else what went wrong. */
export async function downloadFile(
  url: string,
  dest: string,
  expected: FileChecksum,
  progress: { title: string; file: string; setBefore: number; setTotal: number },
  options: DownloadOptions = {},
): Promise<string | null> {
  const part = `${dest}.part`;
  const attempts = options.attempts ?? 5;
  const resumedFrom = sizeOf(part);
  const report = (received: number) =>
    options.onProgress?.({ title: progress.title, file: progress.file, url, received, total: expected.bytes, resumedFrom, setReceived: progress.setBefore + received, setTotal: progress.setTotal });
  report(resumedFrom);
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) return `the download of ${url} was cancelled (${sizeOf(part)} of ${expected.bytes} bytes kept for the next run)`;
    const have = sizeOf(part);
    if (have > expected.bytes) rmSync(part, { force: true });
    if (have === expected.bytes) break;
    try {
      await fetchInto(url, part, Math.min(have, expected.bytes), options, report);
      break;
    } catch (error) {
      if (error instanceof Unreachable) return `cannot download ${url}: ${error.message}. Are you offline? Copy the files into ${dirname(dest)}, or set nn.dataMirror (NN_DATA_MIRROR) to a reachable mirror`;
      if (error instanceof HttpStatus) return `cannot download ${url}: ${error.message}`;
      if (options.signal?.aborted) continue; // reported at the top of the loop
      if (attempt >= attempts) return `cannot download ${url}: ${(error as Error).message} (${attempts} attempts; ${sizeOf(part)} of ${expected.bytes} bytes kept, the next run resumes)`;
      await delay(Math.min(2000, 100 * 2 ** attempt));
    }
  }
  const size = sizeOf(part);
  if (size !== expected.bytes) {
    rmSync(part, { force: true });
    return `${url} sent ${size} bytes, ${expected.bytes} expected; the partial file was removed, run again to download it anew`;
  }
  const md5 = await md5Of(part);
  if (md5 !== expected.md5) {
    rmSync(part, { force: true });
    return `checksum mismatch for ${url}: MD5 ${md5}, expected ${expected.md5}; the file was removed, run again to download it anew`;
  }
  renameSync(part, dest);
  return null;
}

/** One GET from byte `start` on, appended to `part` (restarted from 0 when the server ignores Range). */
function fetchInto(url: string, part: string, start: number, options: DownloadOptions, report: (received: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    request(url, start, options, 0).then((response) => {
      const status = response.statusCode ?? 0;
      const resumed = status === 206 && new RegExp(`^bytes ${start}-`).test(response.headers['content-range'] ?? '');
      if (status !== 200 && !resumed) {
        response.resume();
        return reject(new HttpStatus(status === 206 ? 'the server resumed at another byte than asked' : `HTTP ${status} ${response.statusMessage ?? ''}`.trim()));
      }
      let received = resumed ? start : 0;
      let finished = false;
      const out = createWriteStream(part, { flags: resumed ? 'a' : 'w' });
      const abort = () => response.destroy(new Error('cancelled'));
      options.signal?.addEventListener('abort', abort, { once: true });
      const finish = (error: Error | null) => {
        if (finished) return;
        finished = true;
        options.signal?.removeEventListener('abort', abort);
        out.end(() => (error ? reject(error) : resolve()));
      };
      // No backpressure pause: a paused response that is then cut would drop the bytes it holds.
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        out.write(chunk);
        report(received);
      });
      const dropped = new Error('the connection was closed mid-file');
      response.on('aborted', () => finish(dropped));
      response.on('error', (error) => finish(error.message === 'aborted' ? dropped : error));
      response.on('end', () => finish(response.complete ? null : dropped));
      out.on('error', (error) => finish(error));
    }, reject);
  });
}

function request(url: string, start: number, options: DownloadOptions, redirects: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return reject(new HttpStatus(`not a URL (check nn.dataMirror / NN_DATA_MIRROR)`));
    }
    const get = parsed.protocol === 'https:' ? httpsGet : parsed.protocol === 'http:' ? httpGet : null;
    if (!get) return reject(new HttpStatus(`unsupported protocol ${parsed.protocol}`));
    const headers: Record<string, string> = { 'user-agent': 'nn-studio', 'accept-encoding': 'identity' };
    if (start > 0) headers.range = `bytes=${start}-`;
    const req = get(parsed, { headers, timeout: options.idleTimeoutMs ?? 30_000 }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new HttpStatus('too many redirects'));
        return request(new URL(location, parsed).toString(), start, options, redirects + 1).then(resolve, reject);
      }
      response.setTimeout(options.idleTimeoutMs ?? 30_000, () => response.destroy(new Error('the connection stalled')));
      resolve(response);
    });
    req.on('timeout', () => req.destroy(new Error('the connection timed out')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      reject(error.code && UNREACHABLE.has(error.code) ? new Unreachable(`${error.code} ${parsed.host}`) : error);
    });
  });
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function md5Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
