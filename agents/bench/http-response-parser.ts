/**
 * An incremental HTTP/1.1 response parser for the load generator's own client (http-exchange.ts).
 * It reads one response at a time from whatever byte pieces the socket delivers, hands body bytes
 * out as ranges of those pieces (the caller copies them once, as the socket's read buffer is
 * reused), and reports protocol faults as HttpProtocolError with a message naming what was wrong,
 * so each failed request carries a readable error instead of a generic parse failure.
 *
 * Why not node:http: its IncomingMessage stream machinery costs more client CPU per SSE event than
 * everything else on the hot path together (see docs/benchmarks.md), which capped how many tokens/s
 * one core of the generator could time.
 */

export class HttpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpProtocolError';
  }
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE_BYTES = 4096;
const CR = 13;
const LF = 10;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

export interface ResponseHead {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

function printable(b: Buffer): string {
  const s = b.subarray(0, 80).toString('latin1').replace(/[^\x20-\x7e]/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : '?'));
  return b.length > 80 ? `${s}…` : s;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class ResponseParser {
  head: ResponseHead | null = null;
  /** False when the server asked to close the connection after this response (or spoke HTTP/1.0). */
  keepAlive = true;
  /** Body bytes handed out so far. */
  bodyBytes = 0;
  private state = State.Head;
  private pendingHead: Buffer | null = null;
  private lineBuf: Buffer | null = null;
  private remaining = 0;
  private noBody = false;

  get done(): boolean {
    return this.state === State.Done;
  }

  /** True once the body may legitimately end at EOF (no length, not chunked). */
  get endsAtClose(): boolean {
    return this.state === State.UntilClose;
  }

  /**
   * Feeds the next bytes from the socket; `buf` is only valid during the call. Body bytes go to
   * `onBody` as `src[start, end)`. Returns the number of bytes consumed: less than `buf.length`
   * only when the response completed inside `buf`.
   */
  feed(buf: Buffer, onBody: (src: Buffer, start: number, end: number) => void): number {
    let i = 0;
    const n = buf.length;
    while (i < n && this.state !== State.Done) {
      switch (this.state) {
        case State.Head: {
          i = this.readHead(buf, i);
          break;
        }
        case State.Length: {
          const take = Math.min(this.remaining, n - i);
          onBody(buf, i, i + take);
          this.bodyBytes += take;
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = State.Done;
          break;
        }
        case State.ChunkSize: {
          i = this.readChunkSize(buf, i);
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, n - i);
          onBody(buf, i, i + take);
          this.bodyBytes += take;
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // The CRLF after each chunk's data; `remaining` counts what is still expected.
          const want = this.remaining === 2 ? CR : LF;
          if (buf[i] !== want) throw new HttpProtocolError(`chunk data was not followed by CRLF (got "${printable(buf.subarray(i, i + 16))}"), so the chunk sizes do not match the data`);
          i++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          i = this.readTrailers(buf, i);
          break;
        }
        case State.UntilClose: {
          onBody(buf, i, n);
          this.bodyBytes += n - i;
          i = n;
          break;
        }
      }
    }
    return i;
  }

  /** Called at EOF: completes a read-until-close body, or explains what was missing. */
  end(): void {
    if (this.state === State.Done) return;
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      return;
    }
    if (this.head === null) {
      const got = this.pendingHead?.length ?? 0;
      throw new HttpProtocolError(got === 0 ? 'the server closed the connection without sending a response' : `the server closed the connection in the middle of the response head (${got} bytes: "${printable(this.pendingHead!)}")`);
    }
    const what = this.state === State.Length ? `${this.remaining} of the announced body bytes were missing` : 'the chunked body had no terminating zero-size chunk';
    throw new HttpProtocolError(`the server closed the connection before the response ended (HTTP ${this.head.status}, ${this.bodyBytes} body bytes received; ${what})`);
  }

  private readHead(buf: Buffer, from: number): number {
    let data = buf.subarray(from);
    let offset = 0;
    const joined = this.pendingHead !== null;
    if (this.pendingHead) {
      // Search only the seam and the new bytes: the old part had no terminator.
      offset = Math.max(0, this.pendingHead.length - 3);
      data = Buffer.concat([this.pendingHead, data]);
    }
    const end = data.indexOf('\r\n\r\n', offset, 'latin1');
    if (end === -1) {
      if (data.length > MAX_HEAD_BYTES) throw new HttpProtocolError(`the response head is larger than ${MAX_HEAD_BYTES} bytes without ending; the server is not speaking HTTP/1.1 ("${printable(data)}")`);
      this.checkStatusPrefix(data);
      this.pendingHead = joined ? data : Buffer.from(data);
      return buf.length;
    }
    const prevLen = this.pendingHead?.length ?? 0;
    this.pendingHead = null;
    this.parseHead(data.subarray(0, end));
    // Bytes of `buf` consumed: the head's end within `data`, less what came from earlier pieces.
    return from + end + 4 - prevLen;
  }

  /** Rejects non-HTTP bytes as soon as the first line shows them, not only after 64 KiB. */
  private checkStatusPrefix(data: Buffer): void {
    const want = 'HTTP/1.';
    const k = Math.min(want.length, data.length);
    if (data.subarray(0, k).toString('latin1') !== want.slice(0, k)) throw new HttpProtocolError(`the response did not start with an HTTP/1.x status line: "${printable(data)}"`);
  }

  private parseHead(raw: Buffer): void {
    const text = raw.toString('latin1');
    const lines = text.split('\r\n');
    const statusLine = lines[0]!;
    const m = /^HTTP\/1\.([01]) ([0-9]{3})(?: [^\r\n]*)?$/.exec(statusLine);
    if (!m) throw new HttpProtocolError(`the response did not start with an HTTP/1.x status line: "${printable(raw)}"`);
    const status = Number(m[2]);
    const headers = new Map<string, string>();
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new HttpProtocolError(`malformed response header line "${printable(Buffer.from(line, 'latin1'))}" (HTTP ${status})`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const prev = headers.get(name);
      headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
    }
    if (status >= 100 && status < 200 && status !== 101) {
      // Interim response (100 Continue, 103 Early Hints): the real head follows.
      this.state = State.Head;
      return;
    }
    this.head = { status, headers };
    const connection = (headers.get('connection') ?? '').toLowerCase();
    this.keepAlive = m[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const te = headers.get('transfer-encoding');
    const cl = headers.get('content-length');
    this.noBody = status === 204 || status === 304;
    if (this.noBody) {
      this.state = State.Done;
    } else if (te !== undefined && /(?:^|,)\s*chunked\s*$/i.test(te)) {
      this.state = State.ChunkSize;
    } else if (cl !== undefined) {
      const values = new Set(cl.split(',').map((v) => v.trim()));
      const v = [...values][0]!;
      if (values.size !== 1 || !/^[0-9]{1,15}$/.test(v)) throw new HttpProtocolError(`invalid Content-Length "${cl}" in the response (HTTP ${status})`);
      this.remaining = Number(v);
      this.state = this.remaining === 0 ? State.Done : State.Length;
    } else {
      this.state = State.UntilClose;
      this.keepAlive = false;
    }
  }

  /** Reads `hex[;ext]\r\n`, usually whole within one piece; a split line is kept in lineBuf. */
  private readChunkSize(buf: Buffer, from: number): number {
    const lf = buf.indexOf(LF, from);
    if (lf === -1 || this.lineBuf) {
      const joined = this.lineBuf ? Buffer.concat([this.lineBuf, buf.subarray(from, lf === -1 ? buf.length : lf + 1)]) : Buffer.from(buf.subarray(from));
      if (lf === -1) {
        if (joined.length > MAX_CHUNK_LINE_BYTES) throw new HttpProtocolError(`a chunk size line is longer than ${MAX_CHUNK_LINE_BYTES} bytes ("${printable(joined)}"); the chunked encoding is broken`);
        this.lineBuf = joined;
        return buf.length;
      }
      this.lineBuf = null;
      this.startChunk(joined, 0, joined.length - 1);
      return lf + 1;
    }
    this.startChunk(buf, from, lf);
    return lf + 1;
  }

  /** `line[from, lf)` is the chunk size line without its LF. */
  private startChunk(line: Buffer, from: number, lf: number): void {
    let size = 0;
    let digits = 0;
    let k = from;
    for (; k < lf; k++) {
      const v = hexValue(line[k]!);
      if (v < 0) break;
      size = size * 16 + v;
      digits++;
    }
    const rest = line[k];
    const okEnd = k === lf - 1 && rest === CR;
    const ext = rest === 0x3b || rest === 0x20 || rest === 0x09; // ';' or whitespace before an extension
    if (digits === 0 || digits > 12 || (!okEnd && !ext) || line[lf - 1] !== CR) {
      throw new HttpProtocolError(`invalid chunk size line "${printable(line.subarray(from, lf + 1))}" in the chunked response (HTTP ${this.head?.status ?? 0}, after ${this.bodyBytes} body bytes)`);
    }
    if (size === 0) {
      this.state = State.Trailers;
      return;
    }
    this.remaining = size;
    this.state = State.ChunkData;
  }

  /** Trailer lines after the zero-size chunk, ending at an empty line. */
  private readTrailers(buf: Buffer, from: number): number {
    let i = from;
    for (;;) {
      const lf = buf.indexOf(LF, i);
      if (lf === -1) {
        const joined = this.lineBuf ? Buffer.concat([this.lineBuf, buf.subarray(i)]) : Buffer.from(buf.subarray(i));
        if (joined.length > MAX_HEAD_BYTES) throw new HttpProtocolError('the chunked response trailers are larger than 64 KiB');
        this.lineBuf = joined;
        return buf.length;
      }
      const lineLen = (this.lineBuf?.length ?? 0) + (lf - i);
      this.lineBuf = null;
      i = lf + 1;
      if (lineLen <= 1) {
        this.state = State.Done;
        return i;
      }
    }
  }
}
