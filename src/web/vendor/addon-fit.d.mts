// Types only, for `tsc -p src/web/tsconfig.json`: the server answers /ui/vendor/addon-fit.mjs with
// @xterm/addon-fit's own ES module build (see VENDOR in src/server/routes/web.ts); never served.
export * from '@xterm/addon-fit';
