import { z } from "zod";
import { tokenRoles } from "../../store/schema";

/**
 * A console session as KV keeps it (./session.ts). Apart from the session code, so that the
 * request variables' type (../app-env.ts) can name it without an import cycle.
 */
export const sessionSchema = z.object({ role: z.enum(tokenRoles), csrf: z.string().min(32), createdAt: z.number() });
export type ConsoleSession = z.infer<typeof sessionSchema>;
