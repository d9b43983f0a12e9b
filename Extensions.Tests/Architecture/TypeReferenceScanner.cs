using System.Reflection;

namespace Extensions.Tests.Architecture;

/// <summary>
/// One use of <see cref="Target"/> by <see cref="Source"/>'s member <see cref="Member"/>. <see cref="Target"/> is
/// never a constructed generic, array, by-ref or pointer type: those are split into their definitions and arguments.
/// <see cref="TargetMember"/> is set when the use is of a method or field declared on <see cref="Target"/>.
/// </summary>
internal sealed record TypeReference(Type Source, string Member, Type Target, MemberInfo? TargetMember = null)
{
    public string SourceName => TypeNames.Of(Source) + "." + Member;
}

/// <summary>
/// Everything a type refers to: base type, declared interfaces, generic constraints, attributes, field, property, event
/// and method signatures, local variables, catch clauses, and every token in its method bodies' IL.
/// Nested types (closures, state machines) are separate types; scan them too.
/// </summary>
internal static class TypeReferenceScanner
{
    private const BindingFlags Declared =
        BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    public static List<TypeReference> Scan(Type type, ICollection<string> errors)
    {
        var found = new List<TypeReference>();
        void Add(string member, Type? target, MemberInfo? targetMember = null)
        {
            if (target is null)
            {
                return;
            }

            foreach (var part in Decompose(target))
            {
                found.Add(new TypeReference(type, member, part, targetMember is not null && part == Definition(targetMember.DeclaringType!) ? targetMember : null));
            }
        }

        Add("(base type)", type.BaseType);
        var inherited = type.BaseType?.GetInterfaces() ?? [];
        foreach (var iface in type.GetInterfaces().Except(inherited))
        {
            Add("(interface)", iface);
        }

        if (type.IsGenericTypeDefinition)
        {
            foreach (var constraint in type.GetGenericArguments().SelectMany(p => p.GetGenericParameterConstraints()))
            {
                Add("(generic constraint)", constraint);
            }
        }

        AddAttributes("(attribute)", type.CustomAttributes, Add);

        foreach (var field in type.GetFields(Declared))
        {
            Add(field.Name, field.FieldType);
            AddAttributes(field.Name, field.CustomAttributes, Add);
        }

        foreach (var property in type.GetProperties(Declared))
        {
            Add(property.Name, property.PropertyType);
            foreach (var parameter in property.GetIndexParameters())
            {
                Add(property.Name, parameter.ParameterType);
            }

            AddAttributes(property.Name, property.CustomAttributes, Add);
        }

        foreach (var @event in type.GetEvents(Declared))
        {
            Add(@event.Name, @event.EventHandlerType);
        }

        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            var name = method.Name;
            if (method is MethodInfo info)
            {
                Add(name, info.ReturnType);
                if (info.IsGenericMethodDefinition)
                {
                    foreach (var constraint in info.GetGenericArguments().SelectMany(p => p.GetGenericParameterConstraints()))
                    {
                        Add(name, constraint);
                    }
                }
            }

            foreach (var parameter in method.GetParameters())
            {
                Add(name, parameter.ParameterType);
                AddAttributes(name, parameter.CustomAttributes, Add);
            }

            AddAttributes(name, method.CustomAttributes, Add);

            var body = method.GetMethodBody();
            if (body is null)
            {
                continue;
            }

            foreach (var local in body.LocalVariables)
            {
                Add(name, local.LocalType);
            }

            foreach (var clause in body.ExceptionHandlingClauses)
            {
                if (clause.Flags == ExceptionHandlingClauseOptions.Clause)
                {
                    Add(name, clause.CatchType);
                }
            }

            foreach (var (_, member) in IlReader.ReferencedMembers(method, errors))
            {
                switch (member)
                {
                    case Type referenced:
                        Add(name, referenced);
                        break;
                    case MethodBase called:
                        Add(name, called.DeclaringType, called);
                        if (called is MethodInfo { IsGenericMethod: true } generic)
                        {
                            foreach (var argument in generic.GetGenericArguments())
                            {
                                Add(name, argument);
                            }
                        }

                        break;
                    case FieldInfo field:
                        Add(name, field.DeclaringType, field);
                        break;
                }
            }
        }

        return found;
    }

    /// <summary>The type definitions a (possibly constructed) type is made of; generic parameters contribute nothing.</summary>
    public static IEnumerable<Type> Decompose(Type type)
    {
        if (type.IsGenericParameter)
        {
            yield break;
        }

        if (type.HasElementType)
        {
            foreach (var part in Decompose(type.GetElementType()!))
            {
                yield return part;
            }

            yield break;
        }

        if (type.IsFunctionPointer)
        {
            foreach (var part in type.GetFunctionPointerParameterTypes().Append(type.GetFunctionPointerReturnType()).SelectMany(Decompose))
            {
                yield return part;
            }

            yield break;
        }

        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            yield return type.GetGenericTypeDefinition();
            foreach (var part in type.GetGenericArguments().SelectMany(Decompose))
            {
                yield return part;
            }

            yield break;
        }

        yield return type;
    }

    private static Type Definition(Type type) => type.IsGenericType ? type.GetGenericTypeDefinition() : type;

    private static void AddAttributes(string member, IEnumerable<CustomAttributeData> attributes, Action<string, Type?, MemberInfo?> add)
    {
        foreach (var attribute in attributes)
        {
            add(member, attribute.AttributeType, null);
            foreach (var argument in attribute.ConstructorArguments.Concat(attribute.NamedArguments.Select(n => n.TypedValue)))
            {
                foreach (var value in Flatten(argument))
                {
                    if (value is Type typeArgument)
                    {
                        add(member, typeArgument, null);
                    }
                }
            }
        }
    }

    private static IEnumerable<object?> Flatten(CustomAttributeTypedArgument argument) =>
        argument.Value is IEnumerable<CustomAttributeTypedArgument> items ? items.SelectMany(Flatten) : [argument.Value];
}
