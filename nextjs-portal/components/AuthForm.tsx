"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";

type Mode = "login" | "register";

async function post(path: string, body: object): Promise<Response> {
  return fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
}

async function errorText(answer: Response): Promise<string> {
  try {
    const body = (await answer.json()) as { error?: { message?: string } };
    return body.error?.message ?? `error ${answer.status}`;
  } catch {
    return `error ${answer.status}`;
  }
}

export function AuthForm({ mode }: { mode: Mode }) {
  const router = useRouter();
  const next = useSearchParams().get("next") ?? "/live";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    if (mode === "register") {
      const created = await post("/api/v1/auth/register", { email, password });
      if (created.status !== 201) return setProblem(await errorText(created));
    }
    // the API sets httpOnly cookies; the token in the JSON body is deliberately not kept
    const answer = await post("/api/v1/auth/login", { email, password });
    if (!answer.ok) return setProblem(await errorText(answer));
    router.push(next.startsWith("/") ? next : "/live");
  }

  return (
    <form onSubmit={submit} className="max-w-sm space-y-4">
      <h1 className="text-2xl font-semibold">{mode === "login" ? "Log in" : "Create an account"}</h1>
      <label className="block">
        <span className="text-sm text-slate-300">Email</span>
        <input id="email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)}
          className="mt-1 w-full rounded border border-slate-700 bg-slate-900 px-3 py-2" />
      </label>
      <label className="block">
        <span className="text-sm text-slate-300">Password</span>
        <input id="password" type="password" required value={password} onChange={(e) => setPassword(e.target.value)}
          className="mt-1 w-full rounded border border-slate-700 bg-slate-900 px-3 py-2" />
      </label>
      {problem && <p id="auth-error" className="text-sm text-amber-400">{problem}</p>}
      <button id="submit" type="submit" className="rounded bg-sky-600 px-4 py-2 font-medium hover:bg-sky-500">
        {mode === "login" ? "Log in" : "Register"}
      </button>
    </form>
  );
}
