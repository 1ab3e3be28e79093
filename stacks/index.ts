// The Pulumi program behind Pulumi.yaml (`pulumi up -s <stack>`): the same
// program `npm run stack` runs inline (program.ts).
import { templateProgram } from "./program.js";

const outputs = templateProgram();

export const endpoint = outputs.endpoint;
export const credentials = outputs.credentials;
