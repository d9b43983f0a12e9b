using System.Reflection;

namespace Extensions.Tests.Architecture;

/// <summary>Readable names for violation messages: <c>Namespace.Outer+Nested</c>, generics as <c>List&lt;Int32&gt;</c>.</summary>
internal static class TypeNames
{
    public static string Of(Type type)
    {
        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        if (type.HasElementType)
        {
            var element = Of(type.GetElementType()!);
            return type.IsArray ? element + "[]" : type.IsByRef ? element + "&" : element + "*";
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            return Of(type.GetGenericTypeDefinition()) + "<" + string.Join(", ", type.GetGenericArguments().Select(Of)) + ">";
        }

        return type.FullName ?? (type.Namespace is null ? type.Name : type.Namespace + "." + type.Name);
    }

    public static string Member(MemberInfo member) =>
        member.DeclaringType is null ? member.Name : Of(member.DeclaringType) + "." + member.Name;
}
