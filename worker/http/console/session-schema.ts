import { z } from "zod";
import { tokenRoles } from "../../store/schema";

/** A console session as kept in KV (./session.ts), and as the request's `c.var.session` carries it. */
export const sessionSchema = z.object({ role: z.enum(tokenRoles), csrf: z.string().min(32), createdAt: z.number() });
export type ConsoleSession = z.infer<typeof sessionSchema>;
