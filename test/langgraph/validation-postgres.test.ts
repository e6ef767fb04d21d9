import { validateOn } from "./validation.js";

await validateOn("postgres");
