// /v1/resources/:id/backups: thin routes over BackupService.
import { Router, type Request, type Response } from "express";
import type { Actor } from "./resources.service.js";
import * as schemas from "./resources.schemas.js";
import { backupRequestedView, backupsView } from "./backups.schemas.js";
import type { BackupService } from "./backups.service.js";
import { ApiError } from "./errors.js";

const actorOf = (res: Response): Actor => res.locals.actor as Actor;

function resourceIdOr404(req: Request): string {
  const parsed = schemas.resourceId.safeParse(req.params.id);
  if (!parsed.success) throw new ApiError(404, "not_found", "no such resource");
  return parsed.data;
}

export function backupRoutes(service: BackupService): Router {
  const router = Router();
  router.get("/v1/resources/:id/backups", async (req, res) => {
    res.json(schemas.body(backupsView, await service.list(actorOf(res).team.id, resourceIdOr404(req))));
  });
  router.post("/v1/resources/:id/backups", async (req, res) => {
    res.status(202).json(schemas.body(backupRequestedView, await service.request(actorOf(res).team.id, resourceIdOr404(req))));
  });
  return router;
}
