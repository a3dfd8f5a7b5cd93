// The HTTP API of docs/api.md - the console's only way to the data (no back door): what it can
// do, any client can do. Errors arrive as ApiError with the API's code, message and details.

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
  }
}

/**
 * createApi({base, token, onUnauthorized, clock}) -> {get, post}
 * `token()` returns the bearer token (may refresh it first); `onUnauthorized()` runs on a 401.
 */
export function createApi({ base, token, onUnauthorized, clock }) {
  const root = (base || window.location.origin).replace(/\/$/, "");

  async function request(method, path, body) {
    const headers = { Accept: "application/json" };
    const bearer = await token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(root + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store", credentials: "omit",
      });
    } catch (error) {
      throw new ApiError(0, "network", error.message);
    }
    clock?.observe(response.headers.get("Date"));
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (response.ok) return data;
    const error = data?.error;
    const apiError = error && typeof error === "object"
      ? new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText, error.details)
      : new ApiError(response.status, `http_${response.status}`, data?.message ?? response.statusText ?? String(response.status));
    if (response.status === 401) onUnauthorized?.(apiError);
    throw apiError;
  }

  return {
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body ?? {}),
  };
}

export const path = {
  queue: (team, limit, next) => `/queues/${encodeURIComponent(team)}?limit=${limit}${next ? `&next=${encodeURIComponent(next)}` : ""}`,
  complaint: (id) => `/complaints/${encodeURIComponent(id)}`,
  action: (id, action) => `/complaints/${encodeURIComponent(id)}/${action}`,
};
