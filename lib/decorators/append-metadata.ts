import 'reflect-metadata';

/**
 * A decorator that adds `values` to the list held under `key` by its target
 * (the class, or the handler function), instead of replacing it as
 * `SetMetadata` does: applied twice, both applications count. Only the
 * target's own list is extended, never one inherited from a base class, so a
 * subclass's decorator never changes what its parent requires.
 */
export function appendMetadata(
  key: string,
  values: readonly unknown[],
): MethodDecorator & ClassDecorator {
  const decorator = (
    target: object,
    _property?: string | symbol,
    descriptor?: PropertyDescriptor,
  ): void => {
    const holder = (descriptor?.value as object | undefined) ?? target;
    const own = (Reflect.getOwnMetadata(key, holder) as unknown[] | undefined) ?? [];
    Reflect.defineMetadata(key, [...own, ...values], holder);
  };
  return decorator;
}
