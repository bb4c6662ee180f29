import type { NextConfig } from "next";

// The portal reaches the Python API through its own /api route handler (app/api/[...path]),
// which reads NEXT_PUBLIC_API_URL at run time: the browser stays on one origin, the API's
// httpOnly cookies land on the portal's host, and one build serves any API address.
const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default config;
