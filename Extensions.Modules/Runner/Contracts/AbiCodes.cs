namespace Extensions.Modules.Runner.Contracts;

/// <summary>Negative return values of <c>ext-v1</c> imports.</summary>
public static class AbiCodes
{
    public const int Absent = -1;
    public const int Denied = -2;
    public const int Invalid = -3;
    public const int Limit = -4;
    public const int Internal = -5;
    public const int Timeout = -6;
}
