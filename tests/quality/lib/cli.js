'use strict';
// The command line of the gate's browser steps: the loopback address of the running service
// first, then `--name value` options. Without the address or a required option the step
// prints its usage line and exits with status 2 (a broken call, not a finding).

function commandLine(usage, required = []) {
  const args = process.argv.slice(2);
  const base = (args[0] || '').replace(/\/$/, '');
  const opt = (name, dflt = '') => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base) || required.some((name) => !opt(name))) {
    console.error('usage: ' + usage);
    process.exit(2);
  }
  return { base, opt };
}

module.exports = { commandLine };
