import { validateOn } from "./validation.js";

await validateOn("memory");
