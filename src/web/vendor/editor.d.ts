// Types only, for `tsc -p src/web/tsconfig.json`: the server answers /ui/vendor/editor.js with the
// bundle scripts/bundle-web.js builds from src/web/bundles/editor.js (see BUNDLES in
// src/server/routes/web.ts); never served.
export * from '../bundles/editor.js';
