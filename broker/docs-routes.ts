import path from 'node:path';
import express, { type Express } from 'express';
import { openApiDocument } from './http/openapi';
import { route, type ApiRoute } from './http/route-table';

/** The version of the API the document describes (the /api/v1 contract), not of the package. */
const API_VERSION = '1.0.0';

const DOCS = '/api/v1/docs';
const ASSETS = `${DOCS}/assets`;

/** swagger-ui's prebuilt files, from the swagger-ui-dist package (served here: no CDN). */
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>tablemq API reference</title>
  <link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="reference"></div>
  <script src="${ASSETS}/swagger-ui-bundle.js"></script>
  <script src="${DOCS}/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#reference', deepLinking: true, persistAuthorization: true });\n`;

/**
 * GET /api/v1/openapi.json, built from the route table (`routes` is read when first asked, so
 * the document includes these routes too), and the reference page rendered from it.
 */
export function docsRoutes(routes: () => readonly ApiRoute[]): ApiRoute[] {
  let document: string | undefined;
  return [
    route({
      method: 'get',
      path: '/api/v1/openapi.json',
      tag: 'operations',
      summary: 'This API description (OpenAPI 3.1), generated from the schemas the broker validates requests with',
      public: true,
      handler: (_req, res) => {
        document ??= JSON.stringify(openApiDocument(routes(), API_VERSION));
        res.type('application/json').send(document);
      },
    }),
    route({
      method: 'get',
      path: DOCS,
      tag: 'operations',
      summary: 'A readable API reference rendered from /api/v1/openapi.json (swagger-ui)',
      public: true,
      produces: 'text/html',
      handler: (_req, res) => {
        res.type('text/html').send(PAGE);
      },
    }),
    route({
      method: 'get',
      path: `${DOCS}/init.js`,
      tag: 'operations',
      summary: "The reference page's start-up script",
      public: true,
      produces: 'text/javascript',
      handler: (_req, res) => {
        res.type('text/javascript').send(INIT);
      },
    }),
  ];
}

/** swagger-ui's own files (scripts, styles) under /api/v1/docs/assets: static files, not API routes. */
export function mountDocsAssets(app: Express): void {
  app.use(ASSETS, express.static(SWAGGER_UI_DIR, { index: false, fallthrough: true }));
}
