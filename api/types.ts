/** Fastify type augmentation shared by the API modules. */
import type { Principal, Role } from './tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every non-public route. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** Roles allowed on the route; absent on public routes. */
    roles?: readonly Role[];
    /** No token needed (health checks, docs). */
    public?: boolean;
  }
}

export {};
