// GET /v1/templates: what can be provisioned, with each template's parameters.
import { Router } from "express";
import { templates } from "../components/templates/index.js";
import { resolveImages } from "../components/images.js";
import { prepareRequest } from "../components/templates/index.js";
import { sizes } from "../components/templates/sizes.js";
import { optionsJsonSchema, type Template } from "../components/templates/template.js";
import { footprint } from "./quotas.js";
import { body, templateCatalogue } from "./resources.schemas.js";

/**
 * What each size means for a template with its default options: the CPU and
 * memory limits the quota counts (the images do not change them) and the data
 * it stores, so a user choosing a size sees what it costs (issue 14).
 */
function sizeDetails(template: Template) {
  const images = resolveImages({});
  return Object.fromEntries(
    template.sizes.map((size) => {
      const prepared = prepareRequest({
        template: template.id,
        name: "size",
        team: "size",
        size,
        resourceId: "00000000-0000-0000-0000-000000000000",
      });
      return [size, { ...footprint(prepared, images), storageGb: template.dataGb(sizes[size], prepared.options) }];
    }),
  );
}

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
          sizeDetails: sizeDetails(t),
          targets: [...targets],
          parameters: optionsJsonSchema(t),
        })),
      }),
    );
  });
  return router;
}
