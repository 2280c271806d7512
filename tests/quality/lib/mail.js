'use strict';
// Mails as a real mail sink stores them: the aiosmtpd maildir (DIR/new, DIR/cur) or the
// backend's .eml folder. A small MIME reader: headers (unfolded, RFC 2047 decoded),
// multipart bodies, quoted-printable and base64 transfer encodings, attachments.
const fs = require('fs');
const path = require('path');

function mailFiles(dir) {
  const out = [];
  const walk = (d) => {
    let entries = [];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { if (e.name !== 'tmp') walk(p); } else out.push(p);
    }
  };
  walk(dir);
  return out;
}

function decodeQP(s) {
  const bytes = [];
  const soft = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) { bytes.push(parseInt(soft.slice(i + 1, i + 3), 16)); i += 2; }
    else bytes.push(soft.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes);
}

// RFC 2047 encoded words in headers (=?utf-8?q?…?= and =?utf-8?b?…?=).
function decodeWords(v) {
  return v.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([qQbB])\?([^?]*)\?=/g, (_, cs, enc, text) => {
    const buf = enc.toLowerCase() === 'b' ? Buffer.from(text, 'base64') : decodeQP(text.replace(/_/g, ' '));
    return /utf-?8/i.test(cs) ? buf.toString('utf8') : buf.toString('latin1');
  });
}

function splitHead(raw) {
  const m = raw.match(/\r?\n\r?\n/);
  const headText = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = [];
  for (const line of headText.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1][1] += ' ' + line.trim();
    else { const i = line.indexOf(':'); if (i > 0) headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]); }
  }
  return { headers, body };
}

// A header parameter, also split into RFC 2231 continuations (filename*0=…; filename*1=…).
function param(value, name) {
  const re = new RegExp(`(?:^|;)\\s*${name}(?:\\*(\\d+))?(\\*)?=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'gi');
  const pieces = [];
  for (const m of (value || '').matchAll(re)) {
    let v = m[3] !== undefined ? m[3] : m[4];
    if (m[2]) v = decodeURIComponent(v.replace(/^[^']*'[^']*'/, '')); // charset'lang'percent-encoded
    pieces.push([m[1] === undefined ? -1 : Number(m[1]), v]);
  }
  return pieces.sort((a, b) => a[0] - b[0]).map(([, v]) => v).join('');
}

// One MIME entity (raw is a latin1 string, i.e. bytes) → { headers, get(name), type, parts[], content: Buffer, text, filename }.
function parseEntity(raw) {
  const { headers, body } = splitHead(raw);
  const get = (name) => { const h = headers.find(([k]) => k.toLowerCase() === name.toLowerCase()); return h ? decodeWords(h[1]) : undefined; };
  const getAll = (name) => headers.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => decodeWords(v));
  const ctype = get('Content-Type') || 'text/plain; charset=us-ascii';
  const type = ctype.split(';')[0].trim().toLowerCase();
  const ent = { headers, get, getAll, type, parts: [], filename: param(get('Content-Disposition'), 'filename') || param(ctype, 'name') };
  if (type.startsWith('multipart/')) {
    const boundary = param(ctype, 'boundary');
    const chunks = body.split('--' + boundary);
    for (const c of chunks.slice(1)) {
      if (c.startsWith('--')) break;
      ent.parts.push(parseEntity(c.replace(/^\r?\n/, '').replace(/\r?\n$/, '')));
    }
    ent.content = Buffer.alloc(0);
  } else {
    const cte = (get('Content-Transfer-Encoding') || '').toLowerCase();
    ent.content = cte === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : cte === 'quoted-printable' ? decodeQP(body) : Buffer.from(body, 'latin1');
  }
  const cs = param(ctype, 'charset');
  ent.text = !cs || /utf-?8|us-ascii/i.test(cs) ? ent.content.toString('utf8') : ent.content.toString('latin1');
  return ent;
}

function leaves(ent) { return ent.parts.length ? ent.parts.flatMap(leaves) : [ent]; }

// A parsed mail: headers of the top entity, all leaf parts, the plain and HTML text decoded.
function readMail(file) {
  const raw = fs.readFileSync(file, 'latin1');
  const top = parseEntity(raw);
  const parts = leaves(top);
  const plain = parts.filter((p) => p.type === 'text/plain' && !p.filename).map((p) => p.text).join('\n');
  const html = parts.filter((p) => p.type === 'text/html').map((p) => p.text).join('\n');
  // aiosmtpd adds X-RcptTo (the envelope recipients); the .eml files only have To.
  const to = (top.get('X-RcptTo') || top.get('To') || '').toLowerCase();
  return { file, raw, top, get: top.get, getAll: top.getAll, parts, plain, html, text: plain + '\n' + html, subject: top.get('Subject') || '', to };
}

// Links in a mail (plain text and href attributes, HTML entities undone), de-duplicated.
function linksIn(mail) {
  const found = new Set();
  for (const m of mail.plain.matchAll(/https?:\/\/[^\s<>"')\]]+/g)) found.add(m[0]);
  for (const m of mail.html.matchAll(/href="(https?:\/\/[^"]+)"/g)) found.add(m[1].replace(/&amp;/g, '&'));
  return [...found];
}

// Waits for a new mail (not in `before`) matching pred(mail); returns { mail, fresh } or { mail: null, fresh }.
async function waitForMail(dir, before, pred, timeoutMs = 20000) {
  const t0 = Date.now();
  for (;;) {
    const fresh = mailFiles(dir).filter((f) => !before.has(f)).map((f) => { try { return readMail(f); } catch { return null; } }).filter(Boolean);
    const hit = fresh.find(pred);
    if (hit || Date.now() - t0 > timeoutMs) return { mail: hit || null, fresh };
    await new Promise((r) => setTimeout(r, 250));
  }
}

module.exports = { mailFiles, readMail, linksIn, waitForMail, decodeQP, parseEntity };
