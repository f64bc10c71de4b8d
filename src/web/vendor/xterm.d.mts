// Types only, for `tsc -p src/web/tsconfig.json`: the server answers /ui/vendor/xterm.mjs with
// @xterm/xterm's own ES module build (see VENDOR in src/server/routes/web.ts); this file is never
// served (the file table has no type for .mts).
export * from '@xterm/xterm';
