// The package's root directory, as a file: URL, for the files shipped with it
// (package.json, examples/, src/api/openapi/). This module sits one level below
// the root in every form the code runs in: src/ (tests), dist/ (the ESM build
// and the CLI) and dist-cjs/bundle.js (the CommonJS bundle, where every module
// shares the bundle's own URL, so a path relative to a deeper module's
// import.meta.url would be wrong there). Nothing is read here.

export const packageRoot = new URL('../', import.meta.url);

/** The file: URL of a path relative to the package root. */
export const packageFile = (path: string): URL => new URL(path, packageRoot);
