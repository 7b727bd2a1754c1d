/** A seeded generator of hostile /idc texts: random unicode, very long, control characters, mrkdwn and link injection, near-miss Region names. */
export function hostileCorpus(size: number, seed = 42): string[] {
  let x = seed >>> 0;
  const rnd = () => (x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const subs = [
    'help',
    'status',
    'plan',
    'add-region',
    'remove-region',
    'verify',
    'drill',
    'watch',
    'workflows',
    'show',
    'cancel',
    'retry',
    'ADD-REGION',
    'аdd-region',
    'add_region',
    'addregion',
    'add-regio',
    '',
    ' ',
    'rm',
    'sudo',
  ];
  const nearMiss = [
    'eu-central-l',
    'eu_central_1',
    'EU-CENTRAL-1',
    'eu-central-10',
    'eu-centrl-1',
    'us-east-0',
    'useast1',
    'us-east-1 ',
    'cn-north-1x',
    'eu-central-1\u200b',
    'еu-central-1',
    'eu-central-1;rm -rf /',
    '../../etc/passwd',
    'mars-north-1',
    'us-gov-west-9',
    'ap-southeast-99',
  ];
  const injections = [
    '<!channel>',
    '<!here>',
    '<!everyone>',
    '<@U0ADMIN>',
    '<#C0SECRET>',
    '<https://evil.example|click me>',
    '*bold* _it_ ~s~',
    '```code```',
    '&lt;script&gt;',
    '<script>alert(1)</script>',
    '${input.region}',
    '{{7*7}}',
    '%00',
    "'; DROP TABLE runs; --",
  ];
  const controls = ['\u0000', '\u0007', '\u001b[31m', '\r\n', '\t', '\u2028', '\ufeff', '\u202e'];
  const unicode = () =>
    Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => String.fromCodePoint(Math.floor(rnd() * 0x2ffff)))
      .join('')
      .replace(/[\ud800-\udfff]/g, '?');
  const out: string[] = [];
  for (let i = 0; i < size; i++) {
    const kind = i % 8;
    let text: string;
    if (kind === 0) text = unicode();
    else if (kind === 1) text = `${pick(subs)} ${pick(nearMiss)}`;
    else if (kind === 2) text = `${pick(subs)} ${pick(nearMiss)} ${pick(injections)}`;
    else if (kind === 3) text = `${pick(subs)} ${pick(injections)}`;
    else if (kind === 4) text = `${pick(subs)} ${'x'.repeat(1000 + Math.floor(rnd() * 20_000))}`;
    else if (kind === 5) text = `${pick(subs)}${pick(controls)}${pick(nearMiss)}${pick(controls)}`;
    else if (kind === 6)
      text = `${pick(subs)} ${pick(['20261126-abcdef', '20261126-ABCDEF', '2026-11-26', 'x'.repeat(30), '../run', '20261126-a1b2c3 extra'])}`;
    else text = `${pick(subs)} ${pick(nearMiss)} ${unicode()} ${pick(injections)}`;
    out.push(text);
  }
  return out;
}
