import { ConfigurableModuleBuilder, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApexAuthGuard } from '../auth/apex-auth.guard.js';
import { mountedAuthController } from '../login/auth.controller.js';
import { Bool, FalseOrNested, NonEmptyString, Optional } from '../options/option-rules.js';
import { ApexAuthOptionsError } from '../errors/index.js';
import { closest, optionKeysOf, validateOptions } from '../options/validate-options.js';
import {
  ApexAuthModuleOptions,
  EXTRA_KEYS,
  type ApexAuthModuleExtras,
} from './apex-auth.options.js';

/** Where the login routes are mounted. */
class ControllerExtras {
  @NonEmptyString()
  path?: string = 'auth';

  @Optional()
  @Bool()
  codeExchange?: boolean;
}

/** The rules of the extras, and their defaults. */
class ApexAuthExtras implements ApexAuthModuleExtras {
  @Bool()
  isGlobal?: boolean = true;

  @Bool()
  globalGuard?: boolean = true;

  @FalseOrNested(() => ControllerExtras, 'false or { path, codeExchange }')
  controller?: ControllerExtras | false = new ControllerExtras();
}

/** What `forRootAsync` takes besides the extras, for "did you mean" on a typo there. */
class AsyncOptionKeys extends ApexAuthExtras {
  @Optional() imports?: unknown;
  @Optional() inject?: unknown;
  @Optional() useFactory?: unknown;
  @Optional() useClass?: unknown;
  @Optional() useExisting?: unknown;
  @Optional() provideInjectionTokensFrom?: unknown;
}

/**
 * The module's shape follows its extras, as `ConfigurableModuleBuilder` means
 * them to: global or not, the global guard or not, which controller is
 * mounted where. The extras are checked like the options (unknown keys
 * included); with `forRoot` the options come along, and an `oauthClient`
 * among them mounts the code exchange.
 */
function shapeModule(definition: DynamicModule, given: ApexAuthModuleExtras): DynamicModule {
  const async = definition.imports !== undefined;
  const providers: Provider[] = [...(definition.providers ?? [])];
  let extras: Required<ApexAuthExtras>;
  try {
    extras = validateExtras(given, async);
  } catch (error) {
    // Without a way to make the options there is no module to build: say so at once.
    const madeHow = ['useFactory', 'useClass', 'useExisting'].some((key) => key in given);
    if (!(error instanceof ApexAuthOptionsError) || (async && !madeHow)) throw error;
    // Reported at startup with the options' own problems, in one error; the shape meanwhile is the default one.
    providers.push({ provide: APEX_AUTH_EXTRAS_PROBLEMS, useValue: error.problems });
    extras = validateOptions(ApexAuthExtras, {}) as Required<ApexAuthExtras>;
  }
  if (extras.globalGuard) providers.push({ provide: APP_GUARD, useExisting: ApexAuthGuard });
  const controller = extras.controller;
  const codeExchange =
    controller !== false &&
    (controller.codeExchange ??
      (!async && (given as Partial<ApexAuthModuleOptions>).oauthClient !== undefined));
  return {
    ...definition,
    global: extras.isGlobal,
    providers,
    controllers:
      controller === false ? [] : [mountedAuthController(controller.path!, { codeExchange })],
  };
}

function validateExtras(given: ApexAuthModuleExtras, async: boolean): Required<ApexAuthExtras> {
  const extras = Object.fromEntries(
    Object.entries(given).filter(
      ([key]) => async || (EXTRA_KEYS as readonly string[]).includes(key),
    ),
  );
  if (async) {
    // Anything else beside useFactory is a typo: report it with what it was likely meant to be.
    const unknown = Object.keys(extras).filter(
      (key) => !(EXTRA_KEYS as readonly string[]).includes(key),
    );
    if (unknown.length > 0) validateOptions(AsyncOptionKeys, extras);
  } else {
    // forRoot: a key that is no option but close to an extra is that extra misspelt, which
    // the options' own check (knowing no extras) would call unknown without saying which.
    const options = optionKeysOf(ApexAuthModuleOptions);
    const misspelt = Object.keys(given).filter(
      (key) =>
        !(EXTRA_KEYS as readonly string[]).includes(key) &&
        !options.includes(key) &&
        closest(key, EXTRA_KEYS) !== undefined,
    );
    if (misspelt.length > 0) {
      const record = given as Record<string, unknown>;
      validateOptions(ApexAuthExtras, {
        ...extras,
        ...Object.fromEntries(misspelt.map((key) => [key, record[key]])),
      });
    }
  }
  return validateOptions(ApexAuthExtras, extras) as Required<ApexAuthExtras>;
}

/** Injection token of what was wrong with the extras, when something was. */
export const APEX_AUTH_EXTRAS_PROBLEMS = Symbol('apex-auth:extras-problems');

export const {
  ConfigurableModuleClass: ApexAuthConfigurableModule,
  MODULE_OPTIONS_TOKEN,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ApexAuthModuleOptions>({ moduleName: 'ApexAuth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createApexAuthOptions')
  // The keys only: the defaults are ApexAuthExtras's own.
  .setExtras<ApexAuthModuleExtras>(
    { isGlobal: undefined, globalGuard: undefined, controller: undefined },
    shapeModule,
  )
  .build();
