import { Hono } from "hono";
import { z } from "zod";
import type { TokenRole } from "../../../store/schema";
import type { AppEnv } from "../../app-env";
import { roleOf } from "../../middleware/auth";
import { redirectTo } from "../kit";
import { FLASHES, homeOf, PAGES, screen } from "../layout";
import { endSession, startSession } from "../session";

/** Sign-in exchanges a token for a session (./session.ts); sign-out ends it on the server. */

const signInSchema = z.object({ token: z.string().min(1, "token: paste a token").max(500), next: z.string().optional() });

/**
 * Only the console's own pages of the role, with a plain query, are a sign-in's destination: no
 * open redirect (no scheme, host, `//` or backslash), and nothing a Location header cannot carry
 * (no CR/LF). Anything else goes home.
 */
const NEXT_PAGE = /^([a-z-]{1,40})(\?[A-Za-z0-9._~%=&+-]{0,300})?$/;
const nextPage = (next: string | undefined, role: TokenRole): string => {
  const [, path, query = ""] = NEXT_PAGE.exec(next ?? "") ?? [];
  const page = PAGES.find((p) => p.path === path);
  return page?.role === role ? `${page.path}${query}` : homeOf(role);
};

function SignIn(props: { error?: string | undefined; next?: string | undefined }) {
  return (
    <form method="post" action="sign-in" class="card sign-in">
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <p>Paste the admin token (marketers, reviewers) or the privacy token (the privacy team). It is exchanged for a 30-minute session.</p>
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
      {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
      <button type="submit">Sign in</button>
    </form>
  );
}

export const signInPage = new Hono<AppEnv>()
  .get("/sign-in", async (c) => {
    const session = c.var.session;
    if (session) return redirectTo(c, homeOf(session.role));
    const signedOut = c.req.query("flash") === "signed-out";
    return c.html(
      screen(
        { title: "Sign in", flash: signedOut ? { message: FLASHES["signed-out"] } : null },
        SignIn({ next: c.req.query("next")?.slice(0, 200) }),
      ),
    );
  })
  .post("/sign-in", async (c) => {
    const form = signInSchema.safeParse(c.var.form);
    const role = form.success ? await roleOf(form.data.token, c.env) : null;
    if (!form.success || !role) {
      // Neither a missing nor an unknown token leaves a trace; the answer does not say which it was.
      return c.html(screen({ title: "Sign in" }, SignIn({ error: "That token is not valid.", next: form.data?.next })), 401);
    }
    await startSession(c, role);
    return redirectTo(c, nextPage(form.data.next, role));
  })
  .post("/sign-out", async (c) => {
    const session = c.var.session;
    if (session) await endSession(c, session);
    return redirectTo(c, "sign-in?flash=signed-out");
  });
