/** What `apex-auth --help` prints; the README's section on the command line quotes it verbatim. */
export const CLI_HELP = `Usage: apex-auth permissions plan|sync [options]
       apex-auth emulator [options]

Compares the permission schema of a service at the auth-service with the one in
your code, by name, and lists (plan) or makes (sync) the changes.

Commands:
  permissions plan    list what a sync would change; writes nothing
  permissions sync    create and update permissions; with --prune, delete too
  emulator            run the auth-service emulator, for local development
                      (its options: apex-auth emulator --help)

Options of permissions plan|sync:
  --schema <module>#<export>   the compiled module (a path to a .js file) and
                               its export: a @PermissionField class or an array
                               of permission definitions (#<export> left out:
                               the default export)
  --url <url>                  auth-service base URL        [APEX_AUTH_URL]
  --service <name>             the service's name there     [APEX_AUTH_SERVICE]
  --admin-username <name>      a service admin's username   [APEX_AUTH_ADMIN_USERNAME]
  --admin-password <password>  and password                 [APEX_AUTH_ADMIN_PASSWORD]
  --admin-token <token>        or an admin's bearer token   [APEX_AUTH_ADMIN_TOKEN]
  --prune                      delete permissions the schema no longer has
                               (without it, plan lists them as kept and sync
                               leaves them)
  --on-changed keep|recreate|fail
                               a changed permission, when the auth-service has
                               no in-place update: keep it as it is (default),
                               delete and create it (users' values of it are
                               lost), or stop with an error
  --json                       print the plan or the result as JSON
  -h, --help                   print this help

Flags win over environment variables. Give the password or the token in the
environment: other users of the machine can read command lines.

Exit codes:
  0  plan: nothing to change; sync: done
  2  plan: changes planned
  1  an error, its message on stderr
`;
