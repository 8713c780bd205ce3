import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ApexAuthModuleExtras, ApexAuthModuleOptions } from './apex-auth.options.js';

/** Defaults of the options that shape the module. */
export const APEX_AUTH_EXTRAS_DEFAULTS: Required<ApexAuthModuleExtras> = {
  globalGuard: true,
  controller: { path: 'auth' },
};

export const {
  ConfigurableModuleClass: ApexAuthConfigurableModule,
  MODULE_OPTIONS_TOKEN,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ApexAuthModuleOptions>({ moduleName: 'ApexAuth' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createApexAuthOptions')
  .setExtras<ApexAuthModuleExtras>(APEX_AUTH_EXTRAS_DEFAULTS, (definition) => definition)
  .build();
