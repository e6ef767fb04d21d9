import { validateOn } from "./validation.js";

await validateOn("sqlite");
