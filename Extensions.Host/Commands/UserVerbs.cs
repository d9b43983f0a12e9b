using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;

namespace Extensions.Host.Commands;

/// <summary>
/// <c>users add|list|disable|passwd</c>: tenant users who sign in to the console with a name and password, through the admin API.
/// A password is read from a file (never from the command line, where other users can see it) or generated and printed once.
/// </summary>
internal static class UserVerbs
{
    private static Argument<string> Name() => new("name") { Description = "User name (unique in the tenant; a-z, 0-9, '.', '_', '@', '-')" };

    private static Option<string> Tenant() => new("--tenant") { Description = "Tenant the user belongs to", Required = true };

    private static Option<string?> PasswordFile() => new("--password-file")
    {
        Description = "File whose first line is the password (at least 12 characters); without it a password is generated and printed once",
    };

    private static string Path(string tenant, string? suffix = null) => $"/api/admin/tenants/{Uri.EscapeDataString(tenant)}/users{suffix}";

    public static Command Create()
    {
        var name = Name();
        var tenant = Tenant();
        var role = new Option<string>("--role") { Description = "admin (tenant admin) or user (opens extension pages only)", DefaultValueFactory = _ => "user" };
        role.AcceptOnlyFromAmong("admin", "user");
        var passwordFile = PasswordFile();
        var add = new Command("add", "Create a tenant user.") { name, tenant, role, passwordFile, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        add.SetAction((parse, ct) => RegistryVerbs.Run(parse, add, async http =>
        {
            var body = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, Path(parse.GetValue(tenant)!))
            {
                Content = JsonContent.Create(new { name = parse.GetValue(name), role = parse.GetValue(role), password = ReadPassword(parse.GetValue(passwordFile)) }),
            }, ct);
            Console.WriteLine($"created user {body.GetProperty("name").GetString()} (role {body.GetProperty("role").GetString()}, id {body.GetProperty("id").GetString()}) in tenant {body.GetProperty("tenant").GetString()}");
            PrintGenerated(body);
        }));

        var listTenant = Tenant();
        var list = new Command("list", "List a tenant's users: name, role, state, last sign-in.") { listTenant, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        list.SetAction((parse, ct) => RegistryVerbs.Run(parse, list, async http =>
        {
            foreach (var u in (await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Get, Path(parse.GetValue(listTenant)!)), ct)).EnumerateArray())
            {
                var state = u.GetProperty("disabledAt").ValueKind == JsonValueKind.Null ? "enabled" : "disabled " + u.GetProperty("disabledAt").GetString();
                var last = u.GetProperty("lastSignInAt").ValueKind == JsonValueKind.Null ? "never signed in" : "last sign-in " + u.GetProperty("lastSignInAt").GetString();
                Console.WriteLine(string.Join('\t', u.GetProperty("name").GetString(), u.GetProperty("role").GetString(), state, last, u.GetProperty("id").GetString()));
            }
        }));

        var disableName = Name();
        var disableTenant = Tenant();
        var disable = new Command("disable", "Disable a user: their sessions end and they can't sign in.") { disableName, disableTenant, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        disable.SetAction((parse, ct) => RegistryVerbs.Run(parse, disable, async http =>
        {
            await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Post,
                Path(parse.GetValue(disableTenant)!, $"/{Uri.EscapeDataString(parse.GetValue(disableName)!)}/disable")), ct);
            Console.WriteLine($"disabled user {parse.GetValue(disableName)} in tenant {parse.GetValue(disableTenant)}");
        }));

        var passwdName = Name();
        var passwdTenant = Tenant();
        var passwdFile = PasswordFile();
        var passwd = new Command("passwd", "Set a user's password (their sessions end).") { passwdName, passwdTenant, passwdFile, AdminVerbs.Server(), AdminVerbs.KeyFile() };
        passwd.SetAction((parse, ct) => RegistryVerbs.Run(parse, passwd, async http =>
        {
            var body = await AdminVerbs.SendAsync(http, new HttpRequestMessage(HttpMethod.Put,
                Path(parse.GetValue(passwdTenant)!, $"/{Uri.EscapeDataString(parse.GetValue(passwdName)!)}/password"))
            {
                Content = JsonContent.Create(new { password = ReadPassword(parse.GetValue(passwdFile)) }),
            }, ct);
            Console.WriteLine($"set a new password for user {body.GetProperty("name").GetString()} in tenant {body.GetProperty("tenant").GetString()}");
            PrintGenerated(body);
        }));

        return new Command("users", "Tenant users who sign in to the console with a name and password.") { add, list, disable, passwd };
    }

    private static string? ReadPassword(string? file)
    {
        if (file is null)
        {
            return null;
        }

        if (!File.Exists(file))
        {
            throw new CliException($"password file {file} does not exist");
        }

        return File.ReadLines(file).FirstOrDefault() ?? "";
    }

    private static void PrintGenerated(JsonElement body)
    {
        if (body.TryGetProperty("password", out var password) && password.ValueKind == JsonValueKind.String)
        {
            Console.WriteLine($"password: {password.GetString()}");
            Console.WriteLine("store it now: it is not shown again");
        }
    }
}
