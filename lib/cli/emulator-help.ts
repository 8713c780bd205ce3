/** What `apex-auth emulator --help` prints; the README's section on the emulator quotes it verbatim. */
export const EMULATOR_HELP = `Usage: apex-auth emulator [options]

Runs the auth-service emulator of @apex/nest-auth/testing as a process, for
local development: a real HTTP server on 127.0.0.1 that follows the
auth-service contract and signs real tokens. It prints its URL, what your
service must be configured with, and a token for each seeded user.

It prints its HS256 secret and those tokens on purpose, for local development:
it is a testing tool. Never seed it with real users' passwords.

Options:
  --port <port>          the port to listen on (default 8000; 0: any free one)
  --seed <file.json>     the users, services (with their admins, permissions
                         and users' metadata) and OAuth clients to start with,
                         as JSON: the seed of AuthServiceEmulator.start()
  --signing hs256|rs256  sign tokens with HS256 and a random secret (default),
                         or RS256, its public key served as a JWKS
  --latency <ms>         hold every answer back <ms> milliseconds; or only
                         some endpoints' answers: user=200,permissions=400
  --fail <fault>[@<endpoint>,…][:<times>]
                         make requests fail; <fault> is a status (503),
                         hang (never answer) or reset (drop the connection);
                         on every endpoint or the ones named; for the next
                         <times> requests, or until it stops. Repeatable: the
                         last one given that matches a request applies
  -h, --help             print this help

Endpoints: login, refresh, oauthToken, user, metadata, serviceUser,
serviceUsers, permissions, createPermission, updatePermission,
deletePermission, jwks.

Ctrl-C (SIGINT) or SIGTERM stops it, with exit code 0. A wrong flag or seed
file, or a port it cannot listen on: exit code 1, the message on stderr.
`;
