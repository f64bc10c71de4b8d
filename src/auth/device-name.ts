// A paired device's default token name, from its browser's User-Agent: "Chrome-on-Android",
// "Safari-on-iPhone". Pure. A token name allows no spaces (NAME_PATTERN), hence the hyphens; the
// User-Agent is only ever matched against fixed words, so nothing it says reaches the name itself.

const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(A|iOS|e)?\//, 'Edge'],
  [/\b(OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung-Internet'],
  [/\b(Firefox|FxiOS)\//, 'Firefox'],
  [/\b(Chrome|CriOS|Chromium|HeadlessChrome)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/\bcurl\//, 'curl'],
];

const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/** Longest User-Agent looked at (a longer one is cut: the patterns need only its start). */
const MAX_UA = 512;

export function deviceNameFromUserAgent(userAgent: string | undefined | null): string {
  const ua = (userAgent ?? '').slice(0, MAX_UA);
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1];
  const system = SYSTEMS.find(([re]) => re.test(ua))?.[1];
  if (browser && system) return `${browser}-on-${system}`;
  return browser ?? (system ? `browser-on-${system}` : 'device');
}
