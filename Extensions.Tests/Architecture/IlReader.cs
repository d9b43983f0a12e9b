using System.Reflection;
using System.Reflection.Emit;

namespace Extensions.Tests.Architecture;

/// <summary>
/// Walks a method body's IL with the operand sizes from <see cref="OpCodes"/> and resolves every metadata token
/// operand (types, methods, fields, and <c>ldtoken</c>'s members) in the method's generic context.
/// </summary>
internal static class IlReader
{
    /// <summary>Every opcode, keyed by <see cref="OpCode.Value"/> (two-byte opcodes carry their 0xFE prefix).</summary>
    public static readonly IReadOnlyDictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(OpCode))
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(op => op.Value);

    /// <summary>Operand kinds that are a metadata token naming a type, method or field.</summary>
    public static bool HasMemberToken(OpCode op) => op.OperandType is
        OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok;

    /// <summary>The members referenced by token from <paramref name="method"/>'s body; unresolvable tokens go to <paramref name="errors"/>.</summary>
    public static IEnumerable<(OpCode OpCode, MemberInfo Member)> ReferencedMembers(MethodBase method, ICollection<string> errors)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        var typeArgs = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArgs = method is MethodInfo { IsGenericMethod: true } ? method.GetGenericArguments() : null;
        var position = 0;
        while (position < il.Length)
        {
            var start = position;
            short value = il[position++];
            if (value == 0xFE)
            {
                value = unchecked((short)(0xFE00 | il[position++]));
            }

            if (!OpCodesByValue.TryGetValue(value, out var op))
            {
                errors.Add($"{TypeNames.Member(method)}: unknown opcode 0x{value:X4} at IL_{start:X4}");
                yield break;
            }

            var operandStart = position;
            position += OperandSize(op, il, position);
            if (!HasMemberToken(op))
            {
                continue;
            }

            var token = BitConverter.ToInt32(il, operandStart);
            MemberInfo? member;
            try
            {
                member = op.OperandType switch
                {
                    OperandType.InlineType => method.Module.ResolveType(token, typeArgs, methodArgs),
                    OperandType.InlineMethod => method.Module.ResolveMethod(token, typeArgs, methodArgs),
                    OperandType.InlineField => method.Module.ResolveField(token, typeArgs, methodArgs),
                    _ => method.Module.ResolveMember(token, typeArgs, methodArgs),
                };
            }
            catch (Exception ex) when (ex is ArgumentException or TypeLoadException or FileNotFoundException
                                           or FileLoadException or BadImageFormatException or MissingMemberException)
            {
                errors.Add($"{TypeNames.Member(method)}: {op.Name} 0x{token:X8} at IL_{start:X4} did not resolve: {ex.Message}");
                continue;
            }

            if (member is not null)
            {
                yield return (op, member);
            }
        }
    }

    private static int OperandSize(OpCode op, byte[] il, int operandStart) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, operandStart)),
        _ => 4, // InlineBrTarget, InlineI, ShortInlineR, InlineField, InlineMethod, InlineSig, InlineString, InlineTok, InlineType
    };
}
