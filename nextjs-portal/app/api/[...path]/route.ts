// Same-origin proxy to the Python API: /api/* here is NEXT_PUBLIC_API_URL/api/* (read at run
// time). Cookies, the CSRF header and Set-Cookie pass through, so the API's httpOnly cookies
// belong to the portal's host and the browser never holds a token in script-visible storage.
import { apiUrl } from "@/lib/config";

export const dynamic = "force-dynamic";

const FORWARDED_REQUEST_HEADERS = ["content-type", "cookie", "x-csrf-token", "authorization", "accept"];

async function proxy(request: Request, context: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const { path } = await context.params;
  const search = new URL(request.url).search;
  const headers = new Headers();
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  let upstream: Response;
  try {
    upstream = await fetch(`${apiUrl()}/api/${path.map(encodeURIComponent).join("/")}${search}`, {
      method: request.method, headers, body, redirect: "manual", cache: "no-store",
    });
  } catch {
    return Response.json(
      { error: { code: "api_unreachable", message: `the Strategy Arena API at ${apiUrl()} does not answer: start it with \`arena serve\`` } },
      { status: 502 },
    );
  }
  const answer = new Headers();
  const type = upstream.headers.get("content-type");
  if (type) answer.set("content-type", type);
  for (const cookie of upstream.headers.getSetCookie()) answer.append("set-cookie", cookie);
  return new Response(await upstream.arrayBuffer(), { status: upstream.status, headers: answer });
}

export { proxy as GET, proxy as POST, proxy as PUT, proxy as DELETE, proxy as PATCH };
