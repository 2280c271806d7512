'use strict';
// How every gate script starts Debian's Chromium: headless, as root, and without the
// background connections a closed network refuses.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
module.exports = { ARGS, EXECUTABLE };
