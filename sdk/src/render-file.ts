/**
 * The renderer's file name beside sdk.js. The build replaces this module with the content-hashed name it
 * just wrote (render.<hash>.js, see sdk/rollup.config.mjs); this value is what tests and type checks see.
 */
export const RENDER_FILE = 'render.js'
