#!/usr/bin/env node
// Minimal, dependency-free CQL client (native protocol v4) used by start.sh to
// check that Cassandra really answers CQL, and handy in tests/CI for ad-hoc
// statements:
//
//   node scripts/cassandra/cql.mjs [--host H] [--port P] [--timeout MS] [--quiet] "STMT" ["STMT" ...]
//
// Each argument is one statement, run in order on one connection (consistency
// ONE). Rows are printed one JSON object per line; other results as a short
// note on stderr. Exits 1 on a connection/protocol/server error.
import net from 'node:net';

const args = process.argv.slice(2);
let host = process.env.CASSANDRA_HOST || '127.0.0.1';
let port = Number(process.env.CASSANDRA_PORT || 9042);
let timeoutMs = 10000;
let quiet = false;
const stmts = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--host') host = args[++i];
  else if (a === '--port') port = Number(args[++i]);
  else if (a === '--timeout') timeoutMs = Number(args[++i]);
  else if (a === '--quiet') quiet = true;
  else if (a === '-h' || a === '--help') {
    console.log('usage: cql.mjs [--host H] [--port P] [--timeout MS] [--quiet] "STMT" ...');
    process.exit(0);
  } else stmts.push(a);
}
if (stmts.length === 0) stmts.push('SELECT release_version FROM system.local');

const OP = { ERROR: 0x00, STARTUP: 0x01, READY: 0x02, AUTHENTICATE: 0x03, OPTIONS: 0x05, SUPPORTED: 0x06, QUERY: 0x07, RESULT: 0x08 };

// ---- encoding helpers
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const i32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const str = (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([u16(b.length), b]); };
const longStr = (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([i32(b.length), b]); };
const strMap = (m) => Buffer.concat([u16(Object.keys(m).length), ...Object.entries(m).flatMap(([k, v]) => [str(k), str(v)])]);

function frame(stream, opcode, body) {
  const h = Buffer.alloc(9);
  h.writeUInt8(0x04, 0); // v4 request
  h.writeUInt8(0, 1); // flags
  h.writeInt16BE(stream, 2);
  h.writeUInt8(opcode, 4);
  h.writeInt32BE(body.length, 5);
  return Buffer.concat([h, body]);
}

// ---- decoding helpers
class Reader {
  constructor(buf) { this.b = buf; this.o = 0; }
  u8() { return this.b.readUInt8(this.o++); }
  u16() { const v = this.b.readUInt16BE(this.o); this.o += 2; return v; }
  i32() { const v = this.b.readInt32BE(this.o); this.o += 4; return v; }
  str() { const n = this.u16(); const s = this.b.toString('utf8', this.o, this.o + n); this.o += n; return s; }
  bytes() { const n = this.i32(); if (n < 0) return null; const v = this.b.subarray(this.o, this.o + n); this.o += n; return v; }
  type() {
    const id = this.u16();
    const t = { id };
    if (id === 0x0000) t.custom = this.str();
    else if (id === 0x20 || id === 0x22) t.elem = this.type();
    else if (id === 0x21) { t.key = this.type(); t.val = this.type(); }
    else if (id === 0x30) { t.ks = this.str(); t.name = this.str(); const n = this.u16(); t.fields = []; for (let i = 0; i < n; i++) t.fields.push([this.str(), this.type()]); }
    else if (id === 0x31) { const n = this.u16(); t.elems = []; for (let i = 0; i < n; i++) t.elems.push(this.type()); }
    return t;
  }
}

function uuid(b) { const h = b.toString('hex'); return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`; }

function decode(t, b) {
  if (b === null) return null;
  switch (t.id) {
    case 0x01: case 0x0d: return b.toString('utf8'); // ascii, varchar/text
    case 0x02: case 0x05: return b.readBigInt64BE(0).toString(); // bigint, counter
    case 0x04: return b[0] !== 0;
    case 0x07: return b.readDoubleBE(0);
    case 0x08: return b.readFloatBE(0);
    case 0x09: return b.readInt32BE(0);
    case 0x0b: return new Date(Number(b.readBigInt64BE(0))).toISOString(); // timestamp
    case 0x0c: case 0x0f: return uuid(b);
    case 0x10: return b.length === 4 ? [...b].join('.') : b.toString('hex').match(/.{4}/g).join(':');
    case 0x13: return b.readInt16BE(0);
    case 0x14: return b.readInt8(0);
    case 0x20: case 0x22: { // list, set
      const r = new Reader(b); const n = r.i32(); const out = [];
      for (let i = 0; i < n; i++) out.push(decode(t.elem, r.bytes()));
      return out;
    }
    case 0x21: { // map
      const r = new Reader(b); const n = r.i32(); const out = {};
      for (let i = 0; i < n; i++) { const k = decode(t.key, r.bytes()); out[String(k)] = decode(t.val, r.bytes()); }
      return out;
    }
    default: return '0x' + b.toString('hex');
  }
}

function parseResult(body) {
  const r = new Reader(body);
  const kind = r.i32();
  if (kind === 1) return { kind: 'void' };
  if (kind === 3) return { kind: 'set_keyspace', keyspace: r.str() };
  if (kind === 5) { const change = r.str(); const target = r.str(); const ks = r.str(); const name = target === 'KEYSPACE' ? '' : r.str(); return { kind: 'schema_change', change, target, ks, name }; }
  if (kind === 4) return { kind: 'prepared' };
  if (kind !== 2) return { kind: `unknown(${kind})` };
  const flags = r.i32();
  const ncols = r.i32();
  if (flags & 0x0002) r.bytes(); // paging state
  const cols = [];
  if (!(flags & 0x0004)) {
    const global = flags & 0x0001;
    if (global) { r.str(); r.str(); }
    for (let i = 0; i < ncols; i++) {
      if (!global) { r.str(); r.str(); }
      cols.push({ name: r.str(), type: r.type() });
    }
  }
  const nrows = r.i32();
  const rows = [];
  for (let i = 0; i < nrows; i++) {
    const row = {};
    for (let c = 0; c < ncols; c++) { const col = cols[c] || { name: `col${c}`, type: { id: 0x03 } }; row[col.name] = decode(col.type, r.bytes()); }
    rows.push(row);
  }
  return { kind: 'rows', rows, more: Boolean(flags & 0x0002) };
}

function parseError(body) {
  const r = new Reader(body);
  const code = r.i32();
  return new Error(`CQL error 0x${code.toString(16).padStart(4, '0')}: ${r.str()}`);
}

// ---- connection
function connect() {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const waiting = new Map();
    let nextStream = 1;
    const fail = (err) => { for (const w of waiting.values()) w.reject(err); waiting.clear(); };
    sock.setNoDelay(true);
    sock.on('error', (e) => { reject(e); fail(e); });
    sock.on('close', () => fail(new Error('connection closed by server')));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 9) {
        const len = buf.readInt32BE(5);
        if (buf.length < 9 + len) break;
        const version = buf.readUInt8(0);
        const stream = buf.readInt16BE(2);
        const opcode = buf.readUInt8(4);
        const flags = buf.readUInt8(1);
        let body = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        // optional prefixes of the body, in this order: tracing id, warnings, custom payload
        const pre = new Reader(body);
        if (flags & 0x02) pre.o += 16;
        if (flags & 0x08) { const n = pre.u16(); for (let i = 0; i < n; i++) { const w = pre.str(); if (!quiet) console.error(`warning: ${w}`); } }
        if (flags & 0x04) { const n = pre.u16(); for (let i = 0; i < n; i++) { pre.str(); pre.bytes(); } }
        body = body.subarray(pre.o);
        const w = waiting.get(stream);
        if (!w) continue; // events etc.
        waiting.delete(stream);
        if ((version & 0x7f) !== 0x04) w.reject(new Error(`unexpected protocol version ${version}`));
        else if (opcode === OP.ERROR) w.reject(parseError(body));
        else w.resolve({ opcode, body });
      }
    });
    sock.on('connect', () => {
      resolve({
        request(opcode, body) {
          const stream = nextStream++;
          return new Promise((res, rej) => { waiting.set(stream, { resolve: res, reject: rej }); sock.write(frame(stream, opcode, body)); });
        },
        close() { sock.end(); sock.destroy(); },
      });
    });
  });
}

async function main() {
  const conn = await connect();
  try {
    const sup = await conn.request(OP.OPTIONS, Buffer.alloc(0));
    if (sup.opcode !== OP.SUPPORTED) throw new Error(`expected SUPPORTED, got opcode ${sup.opcode}`);
    const ready = await conn.request(OP.STARTUP, strMap({ CQL_VERSION: '3.0.0' }));
    if (ready.opcode === OP.AUTHENTICATE) throw new Error('server requires authentication (expected AllowAllAuthenticator)');
    if (ready.opcode !== OP.READY) throw new Error(`expected READY, got opcode ${ready.opcode}`);
    for (const q of stmts) {
      // QUERY: <long string query><short consistency=ONE><byte flags=0>
      const res = await conn.request(OP.QUERY, Buffer.concat([longStr(q), u16(0x0001), Buffer.from([0])]));
      if (res.opcode !== OP.RESULT) throw new Error(`expected RESULT, got opcode ${res.opcode}`);
      const r = parseResult(res.body);
      if (r.kind === 'rows') for (const row of r.rows) console.log(JSON.stringify(row));
      else if (!quiet) {
        const note = r.kind === 'schema_change' ? `${r.change} ${r.target} ${r.ks}${r.name ? '.' + r.name : ''}` : r.kind;
        console.error(`ok: ${note}`);
      }
    }
  } finally {
    conn.close();
  }
}

const timer = setTimeout(() => { console.error(`cql: timed out after ${timeoutMs} ms (${host}:${port})`); process.exit(1); }, timeoutMs);
main().then(() => { clearTimeout(timer); }, (e) => { clearTimeout(timer); console.error(`cql: ${e.message} (${host}:${port})`); process.exit(1); });
