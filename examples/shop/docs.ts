import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ApexAuthSwagger } from '@apex/nest-auth';

/** The shop's OpenAPI document: what Nest sees of its routes, with the auth module's security. */
export function shopDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Shop')
    .setDescription('The example shop service of @apex/nest-auth')
    .build();
  return ApexAuthSwagger.setup(SwaggerModule.createDocument(app, config));
}

/** Serves Swagger UI at `/docs` (and the document at `/docs-json`). */
export function serveShopDocs(app: INestApplication): void {
  SwaggerModule.setup('docs', app, shopDocument(app));
}
