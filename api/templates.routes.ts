// GET /v1/templates: what can be provisioned, with each template's parameters.
import { Router } from "express";
import { templates } from "../components/templates/index.js";
import { optionsJsonSchema } from "../components/templates/template.js";
import { body, templateCatalogue } from "./resources.schemas.js";

/** `targets`: what this instance offers (clouds only with their credentials). */
export function templateRoutes(targets: readonly string[]): Router {
  const router = Router();
  router.get("/v1/templates", (_req, res) => {
    res.json(
      body(templateCatalogue, {
        templates: Object.values(templates).map((t) => ({
          id: t.id,
          description: t.description,
          sizes: [...t.sizes],
          defaultSize: t.defaultSize,
          targets: [...targets],
          parameters: optionsJsonSchema(t),
        })),
      }),
    );
  });
  return router;
}
