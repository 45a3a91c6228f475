// The RealWorld example's own configuration (tables, sessions), unchanged.
export { default } from "../../../examples/realworld/cairn.config.js";
