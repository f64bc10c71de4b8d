// @ts-check
// How a terminal looks: shared by the terminal screen and the share page.

export const TERM_FONT = '"JetBrains Mono", "Fira Code", "DejaVu Sans Mono", Menlo, Consolas, monospace';

export const THEME = {
  background: '#0b0e14',
  foreground: '#d6dbe5',
  cursor: '#7aa2f7',
  cursorAccent: '#0b0e14',
  selectionBackground: '#2a3a5a',
  black: '#1c2230',
  red: '#f7768e',
  green: '#9ece6a',
  yellow: '#e0af68',
  blue: '#7aa2f7',
  magenta: '#bb9af7',
  cyan: '#7dcfff',
  white: '#c0caf5',
  brightBlack: '#4a5366',
  brightRed: '#ff7a93',
  brightGreen: '#b9f27c',
  brightYellow: '#ff9e64',
  brightBlue: '#7da6ff',
  brightMagenta: '#c9a7ff',
  brightCyan: '#a4e1ff',
  brightWhite: '#eef1f8',
};

/** The xterm.js options both terminals share; each adds what differs (input, cursor, size). */
export const TERMINAL_OPTIONS = {
  fontFamily: TERM_FONT,
  fontSize: 14,
  lineHeight: 1.15,
  scrollback: 5000,
  theme: THEME,
  allowProposedApi: false,
};
