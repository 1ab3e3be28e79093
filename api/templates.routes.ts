// GET /v1/templates: what can be provisioned, with each template's sizes and parameters.
import { Router } from "express";
import { resolveImages } from "../components/images.js";
import { prepareRequest, templates } from "../components/templates/index.js";
import { sizeNames, type SizeName, type SizeSpec } from "../components/templates/sizes.js";
import { optionsJsonSchema, type Template } from "../components/templates/template.js";
import { footprint, type Footprint } from "../core/footprint.js";
import { body, templateCatalogue } from "./resources.schemas.js";

/** Each size's spec, and what the quota counts for it at the default options (limits do not depend on the images). */
function sizeSpecs(template: Template): Record<SizeName, SizeSpec & { footprint: Footprint }> {
  const images = resolveImages({});
  const resourceId = "00000000-0000-4000-8000-000000000000";
  return Object.fromEntries(
    sizeNames.map((size) => {
      const prepared = prepareRequest({ template: template.id, name: "catalogue", team: "catalogue", resourceId, size });
      return [size, { ...template.sizes[size], footprint: footprint(prepared, images) }];
    }),
  ) as Record<SizeName, SizeSpec & { footprint: Footprint }>;
}

/** `targets`: what this instance offers (clouds only with their credentials). */
export function templateRoutes(targets: readonly string[]): Router {
  const router = Router();
  // The catalogue is fixed for the process' life: computed once.
  const catalogue = body(templateCatalogue, {
    templates: Object.values(templates).map((t) => ({
      id: t.id,
      description: t.description,
      sizes: [...sizeNames],
      defaultSize: t.defaultSize,
      sizeSpecs: sizeSpecs(t),
      sizeUnit: t.sizeUnit,
      targets: [...targets],
      parameters: optionsJsonSchema(t),
    })),
  });
  router.get("/v1/templates", (_req, res) => {
    res.json(catalogue);
  });
  return router;
}
